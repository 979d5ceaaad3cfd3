"""The ml service: the model registry, and alert batches scored through Triton."""
