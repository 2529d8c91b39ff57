"""Packaged known-deviation files, one per target name (`<target>.toml`)."""
