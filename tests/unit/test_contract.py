"""The contract is honest: every RPC a proto declares, routed or not, has an implementation
(none answers UNIMPLEMENTED, which the gateway turns into HTTP 501)."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2

from services.archive.service import ArchiveServicer
from services.archive.xmatch import XMatchServicer
from services.broker.service import BrokerServicer
from services.filters.service import FiltersServicer
from services.ml.service import MLServicer
from services.portal.service import PortalServicer
from skymesh.archive.v1 import archive_pb2_grpc
from skymesh.broker.v1 import broker_pb2_grpc
from skymesh.filters.v1 import filters_pb2_grpc
from skymesh.infra.gateway import DESCRIPTOR_SET
from skymesh.ml.v1 import ml_pb2_grpc
from skymesh.portal.v1 import portal_pb2_grpc
from skymesh.xmatch.v1 import xmatch_pb2_grpc

SERVICERS = {
    "skymesh.archive.v1.ArchiveService": (
        ArchiveServicer,
        archive_pb2_grpc.ArchiveServiceServicer,
    ),
    "skymesh.xmatch.v1.XMatchService": (XMatchServicer, xmatch_pb2_grpc.XMatchServiceServicer),
    "skymesh.broker.v1.BrokerService": (BrokerServicer, broker_pb2_grpc.BrokerServiceServicer),
    "skymesh.filters.v1.FiltersService": (
        FiltersServicer,
        filters_pb2_grpc.FiltersServiceServicer,
    ),
    "skymesh.ml.v1.MLService": (MLServicer, ml_pb2_grpc.MLServiceServicer),
    "skymesh.portal.v1.PortalService": (PortalServicer, portal_pb2_grpc.PortalServiceServicer),
}


def declared_methods() -> list[tuple[str, str]]:
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    return [
        (f"{file.package}.{service.name}", method.name)
        for file in files.file
        if file.package.startswith("skymesh.")
        for service in file.service
        for method in service.method
    ]


def test_every_service_of_the_protos_has_a_servicer() -> None:
    assert {service for service, _ in declared_methods()} == set(SERVICERS)


@pytest.mark.parametrize(("service", "method"), declared_methods())
def test_every_declared_rpc_is_implemented(service: str, method: str) -> None:
    servicer, generated_base = SERVICERS[service]
    assert getattr(servicer, method) is not getattr(generated_base, method), (
        f"{service}/{method} is declared but answers UNIMPLEMENTED"
    )
