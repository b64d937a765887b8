//! What a series table keeps per object, and what writing an object costs: 20,000 custom
//! resources (the scale harness's KubeBlocks clusters with its five-metric config, about 13
//! points each) extracted and written into one table as the watch does. The heap bytes come from
//! a counting global allocator (live bytes after filling minus before; each object is built and
//! dropped in turn, so only what the table keeps is counted). Criterion then times rewriting one
//! object (`SeriesTable::replace` of its extracted points, the points cloned outside the timing).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use kube_state_otel::collectors::crds::{compile_crds, extract, CompiledResource};
use kube_state_otel::config::{load_str, Env};
use kube_state_otel::series::{MetricsRegistry, SeriesTable};
use kube_state_otel_testkit::measure::{live_bytes, CountingAllocator};
use kube_state_otel_testkit::scale::{agent_config, cluster};

const OBJECTS: usize = 20_000;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn resource() -> CompiledResource {
    let yaml = agent_config("", "http://127.0.0.1:4317", 8080, 10_000);
    let config = load_str(&yaml, &Env::from_pairs::<&str, &str>([])).expect("scale config loads");
    compile_crds(&config.config.collectors.crds).expect("scale config compiles").remove(0)
}

fn table_memory(c: &mut Criterion) {
    let resource = resource();
    let registry = MetricsRegistry::new();
    let before = live_bytes();
    let table = registry.attach(Arc::new(SeriesTable::new("crds/clusters", resource.specs.clone())));
    let mut points = 0;
    for i in 0..OBJECTS {
        let extracted = extract(&resource, &cluster(i, 0));
        assert!(extracted.errors.is_empty(), "{:?}", extracted.errors);
        points += extracted.points.len();
        table.replace(&format!("uid-{i}"), extracted.points);
    }
    let kept = (live_bytes() - before) as usize;
    println!(
        "table heap: {OBJECTS} objects, {points} points written, {kept} B kept = {:.1} B per object, \
         {:.1} B per point written",
        kept as f64 / OBJECTS as f64,
        kept as f64 / points as f64,
    );

    let object = extract(&resource, &cluster(4242, 1)).points;
    c.bench_function("table/replace_one_object", |b| {
        b.iter_batched(|| object.clone(), |p| table.replace(black_box("uid-4242"), p), BatchSize::SmallInput)
    });
}

criterion_group!(benches, table_memory);
criterion_main!(benches);
