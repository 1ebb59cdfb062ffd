//! What starts runs without a person clicking "Start run": webhook triggers (an
//! unguessable URL, optionally signed) and, later in this crate, schedules.

mod limiter;
mod verify;
pub mod webhooks;

pub use webhooks::{
    Created, Delivered, Delivery, Response, Verification, Webhook, WebhookError, WebhookLimits,
    WebhookSpec, Webhooks,
};
