from services.broker.service import build
from skymesh.runtime.server import run_service

run_service(build, "broker")
