"""The reference service (`hashigo serve`): a FastAPI app built only on the runtime's ports."""
