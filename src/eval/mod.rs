//! Reading a trained model: Q's codes on held-out real images scored against labels (accuracy
//! under the best mapping, NMI, confusion), against known factors (mutual information, MIG), and
//! without labels (the posterior's information, for ranking runs).

pub mod confusion;
pub mod evaluate;
pub mod factors;
pub mod ranking;
