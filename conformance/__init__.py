"""aoai-conformance: contract and conformance suite for the Azure OpenAI data-plane inference API."""

from conformance.versions import API_VERSIONS, DEFAULT_API_VERSION

__version__ = "0.1.0"
__all__ = ["API_VERSIONS", "DEFAULT_API_VERSION", "__version__"]
