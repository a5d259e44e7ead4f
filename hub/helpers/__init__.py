"""Helpers shared by integrations and automations: entities, registries, tracking, validation."""
