# syntax=docker/dockerfile:1
# Triton Inference Server with the repository's models (models/triton) at /models. Each model
# folder has its CPU config.pbtxt (Python backend: models/python_backend's onnxruntime runner)
# and configs/gpu.pbtxt (ONNX Runtime backend on a GPU: --model-config-name=gpu).
#   docker build -f k8s/images/triton.Dockerfile -t skymesh/triton:0.1.0 .
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:25.10-py3

FROM ${TRITON_IMAGE} AS models
# Every 1/model.py re-exports the shared runner from python_backend/ beside the repository
# (three folders up from itself): /models/<model>/1/model.py -> /python_backend.
COPY models/triton /out/models
COPY models/python_backend /out/python_backend
RUN test -f /out/models/ztf_scores/config.pbtxt && ls /out/models/*/configs/gpu.pbtxt

FROM ${TRITON_IMAGE}
# The Python backend's models run their ONNX files with onnxruntime on CPU (the version of
# requirements/mesh.lock), with the numpy that the image's Python backend already has.
RUN pip install --no-cache-dir onnxruntime==1.23.2
COPY --from=models --chown=1000:1000 /out/models /models
COPY --from=models --chown=1000:1000 /out/python_backend /python_backend
USER 1000:1000
EXPOSE 8000 8001 8002
ENTRYPOINT ["/opt/tritonserver/nvidia_entrypoint.sh"]
CMD ["tritonserver", "--model-repository=/models"]
