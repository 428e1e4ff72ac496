"""Everything a person touches: the Textual console, the CLI, the store, import and export, config."""
