"""`hashigo migrate`: verified, resumable moves of a deployment's data (storage/, db/)."""
