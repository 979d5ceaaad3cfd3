"""skymesh: a survey alert broker and science platform as a gRPC microservice mesh.

The hand-written shared runtime lives here; the generated API stubs
(``skymesh.<service>.v1``) live under ``gen/`` and join this package's path.
"""

from pkgutil import extend_path

# Generated stubs are a second portion of the ``skymesh`` package (gen/skymesh/...).
__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"
