"""The files kitty-ops keeps: records under kitty-ops/, and the local caches and notes beside git."""
