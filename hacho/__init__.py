"""The composition root: what `hacho run` assembles (the core, the frontend, the automation engine).

It sits above every other package: `hub/` (the core) imports nothing from here, nor from
`integrations/`, `automations/` or `frontend/` (the `.importlinter` contract in pyproject.toml).
"""

__all__: list[str] = []
