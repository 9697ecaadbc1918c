"""One module per backend; each is imported only when a model configured for it is built."""
