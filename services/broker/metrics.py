"""The broker's Prometheus metrics, read from its counters when scraped (nothing is counted
twice): alerts by outcome, consumer lag, batches in flight, filter passes and errors per
filter version, the alerts' latency, and each stage's CPU and wall time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from services.broker.consumer import SurveyConsumer

PREFIX = "skymesh_broker"


class BrokerCollector(Collector):
    def __init__(self, consumers: Sequence[SurveyConsumer]) -> None:
        self.consumers = consumers

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily | HistogramMetricFamily]:
        alerts = CounterMetricFamily(
            f"{PREFIX}_alerts",
            "Alerts consumed, by outcome: processed (all), archived (new), duplicate "
            "(already archived), dead_lettered.",
            labels=["survey", "outcome"],
        )
        batches = CounterMetricFamily(f"{PREFIX}_batches", "Batches done.", labels=["survey"])
        retries = CounterMetricFamily(
            f"{PREFIX}_retries", "Service calls retried during an outage.", labels=["survey"]
        )
        lag = GaugeMetricFamily(
            f"{PREFIX}_consumer_lag",
            "Records not yet consumed over the assigned partitions (-1: unknown now).",
            labels=["survey"],
        )
        in_flight = GaugeMetricFamily(
            f"{PREFIX}_batches_in_flight", "Batches in the pipeline now.", labels=["survey"]
        )
        passes = CounterMetricFamily(
            f"{PREFIX}_filter_passes",
            "Alerts that passed a filter version.",
            labels=["filter_id", "fid"],
        )
        errors = CounterMetricFamily(
            f"{PREFIX}_filter_errors",
            "Alerts a filter version raised on at run time.",
            labels=["filter_id", "fid"],
        )
        stage_cpu = CounterMetricFamily(
            f"{PREFIX}_stage_cpu_seconds",
            "The broker's own CPU time per pipeline stage.",
            labels=["survey", "stage"],
        )
        stage_wall = CounterMetricFamily(
            f"{PREFIX}_stage_seconds",
            "Time batches spent per pipeline stage, the called service's answer included.",
            labels=["survey", "stage"],
        )
        latency = HistogramMetricFamily(
            f"{PREFIX}_alert_latency_seconds",
            "From an alert's Kafka timestamp to its batch archived, filtered and posted.",
            labels=["survey"],
        )
        for consumer in self.consumers:
            survey = consumer.survey.name
            counters = consumer.processor.counters
            for outcome, value in (
                ("processed", counters.processed),
                ("archived", counters.archived),
                ("duplicate", counters.duplicate),
                ("dead_lettered", counters.dead_lettered),
            ):
                alerts.add_metric([survey, outcome], value)
            batches.add_metric([survey], counters.batches)
            retries.add_metric([survey], counters.retries)
            lag.add_metric([survey], consumer.last_lag)
            in_flight.add_metric([survey], counters.batches_in_flight)
            for (filter_id, fid), counter in sorted(counters.filters.items()):
                passes.add_metric([str(filter_id), fid], counter.passed)
                errors.add_metric([str(filter_id), fid], counter.errors)
            for stage, times in counters.stages.items():
                stage_cpu.add_metric([survey, stage], times.cpu_s)
                stage_wall.add_metric([survey, stage], times.wall_s)
            latency.add_metric(
                [survey],
                buckets=_seconds(counters.latency_histogram()),
                sum_value=counters.latency_sum_ms / 1000,
            )
        yield from (alerts, batches, retries, lag, in_flight, passes, errors)
        yield from (stage_cpu, stage_wall, latency)


def _seconds(histogram: Iterable[tuple[float, int]]) -> list[tuple[str, int]]:
    return [
        ("+Inf" if bound == float("inf") else str(bound / 1000), count)
        for bound, count in histogram
    ]
