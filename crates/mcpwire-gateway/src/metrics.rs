//! Prometheus metrics (`/metrics`, text format), with `prometheus-client`. Labels are
//! configuration names (tenant, server), routes and outcomes: never a caller-supplied string.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type L2 = [(&'static str, String); 2];
type L3 = [(&'static str, String); 3];
type L1 = [(&'static str, String); 1];
type HistogramFamily = Family<L1, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 100 µs .. ~100 s.
    Histogram::new(exponential_buckets(0.000_1, 2.0, 21))
}

/// The gateway's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<L3, Counter>,
    refusals: Family<L2, Counter>,
    streams: Family<[(&'static str, String); 1], Gauge>,
    mcp_calls: Family<L3, Counter>,
    refreshes: Family<L2, Counter>,
    upstream_latency: HistogramFamily,
    connections: Gauge,
    connections_refused: Family<L1, Counter>,
    connections_closed: Family<L1, Counter>,
    shared_fallbacks: Counter,
    reloads: Family<L1, Counter>,
    spans_exported: Counter,
    spans_dropped: Counter,
    /// One catch-up of the span counters at a time (two scrapes at once must not add twice).
    spans_sync: std::sync::Mutex<()>,
}

impl Metrics {
    pub(crate) fn new(replica: &str) -> Self {
        let mut root = Registry::with_prefix("mcpwire");
        let reloads = Family::<L1, Counter>::default();
        root.register(
            "config_reloads",
            "Configuration reloads (SIGHUP), by result (ok, rejected)",
            reloads.clone(),
        );
        let registry = root.sub_registry_with_prefix("gateway");
        let info = Family::<L1, Gauge>::default();
        registry.register("replica", "This replica's id (value 1)", info.clone());
        info.get_or_create(&[("replica", replica.to_owned())])
            .set(1);
        let shared_fallbacks = Counter::default();
        registry.register(
            "shared_state_fallbacks",
            "Requests whose limits or owner checks could not use the shared Redis",
            shared_fallbacks.clone(),
        );
        let requests = Family::<L3, Counter>::default();
        registry.register(
            "requests",
            "Requests by route, tenant and HTTP status",
            requests.clone(),
        );
        let refusals = Family::<L2, Counter>::default();
        registry.register(
            "refusals",
            "Requests refused or failed by the gateway, by route and reason",
            refusals.clone(),
        );
        let streams = Family::<[(&'static str, String); 1], Gauge>::default();
        registry.register(
            "open_streams",
            "Upstream responses being relayed, by tenant",
            streams.clone(),
        );
        let mcp_calls = Family::<L3, Counter>::default();
        registry.register(
            "mcp_events",
            "MCP activity seen in responses, by tenant, server and outcome",
            mcp_calls.clone(),
        );
        let refreshes = Family::<L2, Counter>::default();
        registry.register(
            "token_refreshes",
            "OAuth access tokens that changed since last used, by tenant and server",
            refreshes.clone(),
        );
        let upstream_latency =
            Family::<[(&'static str, String); 1], Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "upstream_response_seconds",
            "Time until the upstream's response headers, by vendor",
            upstream_latency.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "open_connections",
            "Client connections open now",
            connections.clone(),
        );
        let connections_refused = Family::<L1, Counter>::default();
        registry.register(
            "connections_refused",
            "Client connections closed as they were accepted, by limit (total, peer)",
            connections_refused.clone(),
        );
        let connections_closed = Family::<L1, Counter>::default();
        registry.register(
            "connections_timed_out",
            "Client connections closed by the gateway, by timeout (header, idle)",
            connections_closed.clone(),
        );
        let spans_exported = Counter::default();
        registry.register(
            "trace_spans_exported",
            "Trace spans sent to the OTLP collector",
            spans_exported.clone(),
        );
        let spans_dropped = Counter::default();
        registry.register(
            "trace_spans_dropped",
            "Trace spans dropped: the export queue was full, or the collector failed or timed out",
            spans_dropped.clone(),
        );
        Metrics {
            spans_exported,
            spans_dropped,
            spans_sync: std::sync::Mutex::new(()),
            registry: root,
            shared_fallbacks,
            reloads,
            connections,
            connections_refused,
            connections_closed,
            requests,
            refusals,
            streams,
            mcp_calls,
            refreshes,
            upstream_latency,
        }
    }

    pub(crate) fn request(&self, route: &str, tenant: &str, status: u16) {
        self.requests
            .get_or_create(&[
                ("route", route.to_owned()),
                ("tenant", tenant.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
    }

    pub(crate) fn refusal(&self, route: &str, reason: &str) {
        self.refusals
            .get_or_create(&[("route", route.to_owned()), ("reason", reason.to_owned())])
            .inc();
    }

    pub(crate) fn stream_open(&self, tenant: &str, delta: i64) {
        self.streams
            .get_or_create(&[("tenant", tenant.to_owned())])
            .inc_by(delta);
    }

    pub(crate) fn mcp_event(&self, tenant: &str, server: &str, outcome: &str) {
        self.mcp_calls
            .get_or_create(&[
                ("tenant", tenant.to_owned()),
                ("server", server.to_owned()),
                ("outcome", outcome.to_owned()),
            ])
            .inc();
    }

    pub(crate) fn refresh(&self, tenant: &str, server: &str) {
        self.refreshes
            .get_or_create(&[("tenant", tenant.to_owned()), ("server", server.to_owned())])
            .inc();
    }

    pub(crate) fn upstream_latency(&self, vendor: &str, seconds: f64) {
        self.upstream_latency
            .get_or_create(&[("vendor", vendor.to_owned())])
            .observe(seconds);
    }

    pub(crate) fn connection_open(&self, delta: i64) {
        self.connections.inc_by(delta);
    }

    pub(crate) fn connection_refused(&self, limit: &'static str) {
        self.connections_refused
            .get_or_create(&[("limit", limit.to_owned())])
            .inc();
    }

    pub(crate) fn connection_timed_out(&self, timeout: &'static str) {
        self.connections_closed
            .get_or_create(&[("timeout", timeout.to_owned())])
            .inc();
    }

    pub(crate) fn shared_fallback(&self) {
        self.shared_fallbacks.inc();
    }

    pub(crate) fn config_reload(&self, result: &'static str) {
        self.reloads
            .get_or_create(&[("result", result.to_owned())])
            .inc();
    }

    /// Brings the span counters up to the exporter's totals (called before rendering).
    pub(crate) fn spans(&self, exported: u64, dropped: u64) {
        let _one = self.spans_sync.lock().unwrap_or_else(|p| p.into_inner());
        for (counter, total) in [
            (&self.spans_exported, exported),
            (&self.spans_dropped, dropped),
        ] {
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
    }

    /// The text exposition.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
