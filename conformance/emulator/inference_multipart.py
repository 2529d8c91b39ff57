"""A small multipart/form-data reader for the audio uploads.

Why not Starlette's `request.form()`: it needs the optional `python-multipart` package, which is not
a dependency of this project; the standard library's MIME parser reads form-data just as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

FILE_FIELDS = frozenset({"file"})


class MultipartError(ValueError):
    """The body is not a readable multipart/form-data document."""


@dataclass
class FormData:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (filename, bytes)

    def value(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def as_json_like(self) -> dict[str, object]:
        """Fields as the contract sees a form: one value -> string, repeated `x[]` -> list; files -> name."""
        result: dict[str, object] = {}
        for name, values in self.fields.items():
            result[name] = values if name.endswith("[]") or len(values) > 1 else values[0]
        for name, (filename, _) in self.files.items():
            result[name] = filename or name
        return result


def parse_form(content_type: str, body: bytes) -> FormData:
    """Parse a multipart/form-data body; raise `MultipartError` with a user-facing reason."""
    if "boundary=" not in content_type:
        raise MultipartError("multipart/form-data request without a boundary")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise MultipartError("the body is not a multipart document")
    form = FormData()
    for part in message.iter_parts():
        if not isinstance(part, Message):
            continue
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            continue  # a part nobody can refer to: ignored, like any unknown field
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        # Only `file` is an upload in these operations; other parts are fields even when a client
        # sends them with a filename.
        if name in FILE_FIELDS:
            form.files[name] = (filename or name, data)
        else:
            charset = part.get_content_charset() or "utf-8"
            form.fields.setdefault(name, []).append(data.decode(charset, errors="replace"))
    return form
