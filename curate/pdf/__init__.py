"""PDF side: captions, float regions, rendering, text and mentions."""
