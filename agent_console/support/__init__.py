"""Support for every layer above the core: settings, XDG paths, the console's words (i18n), the clipboard."""
