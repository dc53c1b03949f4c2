//! ecsdeploy: deploy containerized web apps to AWS ECS Fargate by calling the AWS APIs
//! directly. See docs/architecture.md for how the pieces fit.

pub mod aws;
pub mod cli;
pub mod commands;
pub mod config;
pub mod desired;
pub mod engine;
pub mod error;
pub mod graph;
pub mod image;
pub mod lock;
pub mod migrate;
pub mod observe;
pub mod ops;
pub mod plan;
pub mod report;
pub mod steps;
pub mod tools;
