"""clapsep-studio: query-based sound isolation for people who edit audio.

The repository keeps the product's parts as top-level folders (`host/`, `plugin_bridge/`,
`ui/`, `model/`, `export/`); they install as `clapsep.host`, `clapsep.plugin_bridge`, ...
so that nothing named `model` or `ui` lands in site-packages. This package itself holds only
the leaves every part may import: `errors`, `files` (atomic writes) and `package_format`.
"""
