//! Taking in what users arrive with: other tools' files converted into an ecsdeploy config.

pub mod copilot;
pub mod yaml;
