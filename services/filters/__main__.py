from services.filters.service import build
from skymesh.runtime.server import run_service

run_service(build, "filters")
