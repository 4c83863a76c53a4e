"""arXiv: ids in every pasted form, the polite HTTP client, the API and OAI-PMH readers, the metadata
snapshot reader, licence normalisation, and `download` (PDF + e-print + metadata.jsonl per paper)."""
