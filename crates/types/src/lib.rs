//! The names Aura stores and shows: run and step statuses, run event kinds and audit
//! actions. Each is an enum serialised as the string the database holds, so the store,
//! the engine, the REST API and the browser build (which compiles this crate to WASM) agree
//! on one list, and filters offer every value there is. `definition` is the saved shape of
//! a workflow, which the builder edits in the browser.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub mod definition;

/// A stored string that names no value of its enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownName {
    pub kind: &'static str,
    pub text: String,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a {}", self.text, self.kind)
    }
}

impl std::error::Error for UnknownName {}

/// Declares an enum of names: `as_str`, `parse`, `ALL`, `Display`, and serde as the string.
macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and serialised form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value whose string is `text`, if there is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        /// For reading the stored string (`#[sqlx(try_from = "String")]`).
        impl TryFrom<String> for $name {
            type Error = UnknownName;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                $name::parse(&text).ok_or(UnknownName {
                    kind: stringify!($name),
                    text,
                })
            }
        }

        /// Compares with the stored string: `status == "failed"`.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::unknown_variant(
                        &text,
                        &[$($text,)+],
                    )
                })
            }
        }
    };
}

names! {
    /// Where a run is.
    RunStatus {
        Queued = "queued",
        Running = "running",
        /// A step waits for a person's decision, and nothing else can run until then.
        Waiting = "waiting",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl RunStatus {
    /// Whether the run has ended (nothing more will happen unless it is resumed).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }
}

names! {
    /// Where one step of a run is.
    StepStatus {
        /// Waiting for its predecessors.
        Pending = "pending",
        Queued = "queued",
        Running = "running",
        /// Waiting for a person's decision (an `approval` step).
        Waiting = "waiting",
        Succeeded = "succeeded",
        Failed = "failed",
        /// Its branch was not taken.
        Skipped = "skipped",
        Cancelled = "cancelled",
    }
}

names! {
    /// What a workflow step does; each type has its own configuration.
    StepKind {
        Llm = "llm",
        Script = "script",
        Http = "http",
        Condition = "condition",
        Map = "map",
        Template = "template",
        Analysis = "analysis",
        Approval = "approval",
        Agent = "agent",
    }
}

names! {
    /// What a run event records.
    EventKind {
        RunQueued = "run_queued",
        RunResumed = "run_resumed",
        RunSucceeded = "run_succeeded",
        RunFailed = "run_failed",
        RunCancelled = "run_cancelled",
        StepStarted = "step_started",
        StepSucceeded = "step_succeeded",
        StepFailed = "step_failed",
        StepRetrying = "step_retrying",
        StepSkipped = "step_skipped",
        /// A step began waiting for a decision.
        StepWaiting = "step_waiting",
        /// A chunk of a step's log.
        StepLog = "step_log",
    }
}

names! {
    /// What an audit event records.
    AuditAction {
        SignUp = "auth.sign_up",
        SignIn = "auth.sign_in",
        SignOut = "auth.sign_out",
        PasswordChange = "auth.password_change",
        ProfileUpdate = "profile.update",
        SettingChange = "settings.change",
        ProjectCreate = "project.create",
        ProjectDelete = "project.delete",
        ProjectImport = "project.import",
        ProjectExport = "project.export",
        ApiKeyCreate = "api_key.create",
        ApiKeyRevoke = "api_key.revoke",
        /// A key used from an address it was not last used from.
        ApiKeyUse = "api_key.use",
        ModelProviderSave = "model_provider.save",
        ModelProviderDelete = "model_provider.delete",
        ModelAliasSave = "model_alias.save",
        ModelAliasDelete = "model_alias.delete",
        /// Every stored secret sealed again under a new key.
        SecretsRotate = "secrets.rotate",
        BudgetSet = "budget.set",
        SecretSet = "secret.set",
        SecretDelete = "secret.delete",
        BudgetDelete = "budget.delete",
        WebhookCreate = "webhook.create",
        WebhookUpdate = "webhook.update",
        /// A webhook's URL replaced by a new one.
        WebhookRegenerate = "webhook.regenerate",
        WebhookDelete = "webhook.delete",
        ScheduleCreate = "schedule.create",
        ScheduleUpdate = "schedule.update",
        ScheduleDelete = "schedule.delete",
        /// A person approved or rejected a waiting `approval` step.
        ApprovalDecide = "approval.decide",
    }
}

names! {
    /// What an API key may do. A signed-in browser session may do everything its user may.
    Scope {
        /// Read workflows, runs and projects.
        Read = "read",
        /// Create, change and delete workflows and projects.
        Write = "write",
        /// Start, cancel and resume runs.
        Run = "run",
        /// Administrator actions, for keys of administrators.
        Admin = "admin",
    }
}

/// Where the builder drew each step of a workflow version: step id → the top-left corner
/// of its node, in canvas pixels. Stored beside a version, never part of it.
/// The size of a step's node, in canvas pixels, wherever a workflow is drawn: the layered
/// layout spaces nodes by it and the builder and run pages draw them at it.
pub const NODE_WIDTH: f64 = 176.0;
pub const NODE_HEIGHT: f64 = 52.0;

pub type StepPositions = std::collections::BTreeMap<String, [f64; 2]>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_json_as_their_strings() {
        for status in RunStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
            assert_eq!(serde_json::from_value::<RunStatus>(json).unwrap(), *status);
        }
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(*kind));
        }
        for action in AuditAction::ALL {
            assert_eq!(action.to_string(), action.as_str());
        }
        assert_eq!(StepStatus::parse("skipped"), Some(StepStatus::Skipped));
        let err = serde_json::from_value::<RunStatus>("paused".into()).unwrap_err();
        assert!(err.to_string().contains("paused"), "{err}");
    }
}
