"""Search over the knowledge base: one package for what a document is, the encoders, the index store,
the rankers, related papers, suggestions and discovery.

Layers, lowest first (each module imports only modules above it in this list, never the other way):
`document` (what is searched), `lexical` (BM25), `transformer` (the sentence-transformer, torch),
`static` (the distilled static encoder), `vectors` (faiss), `store` (the index on disk and its freshness),
`ranking` (the fused search), `related`, `suggest`, `discover`. Importing this package imports none of them,
so `kb validate` and other light commands never pay for numpy, faiss or torch.
"""
