//! The `kube-state-otel` binary: command line, logging, and the chosen subcommand.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kube_state_otel::commands::RenderFormat;
use kube_state_otel::config::Env;
use kube_state_otel::{commands, export, objects, runtime};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "kube-state-otel",
    version,
    about = "OpenTelemetry-native state metrics for Kubernetes custom resources, nodes and etcd"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Config file (for the default `run`).
    #[arg(
        long,
        short,
        global = true,
        env = "KUBE_STATE_OTEL_CONFIG",
        default_value = "/etc/kube-state-otel/config.yaml"
    )]
    config: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the agent (the default).
    Run,
    /// Validate the config, print what would run; exit 1 on errors.
    Check {
        /// Also read the cluster's discovery (no objects) and say what each resource would
        /// watch there: the types a `select` entry matches, a type missing or not watchable.
        #[arg(long)]
        cluster: bool,
    },
    /// Print the ClusterRole (and leader-election Role) the config needs, as YAML.
    Rbac,
    /// Print the metrics the config yields for objects in YAML/JSON files; no cluster needed.
    Render {
        /// Files or directories of Kubernetes objects (YAML, JSON, `kind: List`).
        #[arg(long, required = true, num_args = 1..)]
        objects: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: RenderFormat,
    },
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    kube_state_otel::runtime::tune_malloc();
    let cli = Cli::parse();
    let env = Env::from_process();
    match cli.command.unwrap_or(Command::Run) {
        Command::Version => {
            println!("kube-state-otel {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Check { cluster } => match commands::check(&cli.config, &env) {
            Ok((plan, summary)) => {
                print!("{summary}");
                if cluster {
                    return check_cluster(&plan);
                }
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{errors}");
                ExitCode::FAILURE
            }
        },
        Command::Rbac => match commands::check(&cli.config, &env) {
            Ok((plan, _)) => {
                print!("{}", commands::rbac(&plan));
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{errors}");
                ExitCode::FAILURE
            }
        },
        Command::Render { objects, format } => render(&cli.config, &objects, format, &env),
        Command::Run => run(&cli.config, env),
    }
}

fn check_cluster(plan: &kube_state_otel::config::Plan) -> ExitCode {
    let preview = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
        .and_then(|rt| rt.block_on(commands::cluster_preview(plan)).map_err(|e| e.to_string()));
    match preview {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kube-state-otel check --cluster: {e}");
            ExitCode::FAILURE
        }
    }
}

fn render(config: &std::path::Path, objects: &[PathBuf], format: RenderFormat, env: &Env) -> ExitCode {
    let plan = match commands::load_for_render(config, env) {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let result = objects::read_sourced(objects)
        .map_err(commands::RenderError::from)
        .and_then(|objects| commands::render(&plan, env, &objects, format));
    match result {
        Ok(rendered) => {
            for warning in &rendered.warnings {
                eprintln!("warning: {warning}");
            }
            print!("{}", rendered.output);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kube-state-otel render: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &std::path::Path, env: Env) -> ExitCode {
    let (plan, _) = match commands::check(path, &env) {
        Ok(ok) => ok,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let resource = export::resource::attributes(&plan.config, &env, None);
        let logging = runtime::init_logging(&plan.config, &resource);
        let stop = CancellationToken::new();
        runtime::on_signal(stop.clone());
        let result = runtime::run_watching(path.to_path_buf(), plan, env, stop).await;
        logging.shutdown();
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "agent failed");
                eprintln!("kube-state-otel: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
