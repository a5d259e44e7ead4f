"""Built-in integrations, one package per kind of device or peer."""
