//! A loaded config file: the settings, and every enabled collector's section compiled once into
//! the plan that runs. The runtime keeps the plans from load to spawn, and a reload compares
//! them to restart only the collectors whose section changed.

use super::Config;
use crate::collectors::CollectorPlan;

/// The config as loaded and the enabled collectors' plans, in a fixed order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub config: Config,
    pub collectors: Vec<CollectorPlan>,
}
