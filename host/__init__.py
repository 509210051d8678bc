"""The render host: everything between a clip on disk and a written stem, without torch."""
