//! What starts runs without a person clicking "Start run": webhook triggers (an
//! unguessable URL, optionally signed) and schedules (cron in a time zone, or every N
//! minutes or hours), with the scheduler every instance runs.

pub mod cron;
mod limiter;
pub mod schedules;
mod verify;
pub mod webhooks;

pub use schedules::{
    CatchUp, Overlap, Preview, Rule, Schedule, ScheduleError, ScheduleSpec, Scheduler, Schedules,
    Tick, Unit, Upcoming,
};
pub use webhooks::{
    Created, Delivered, Delivery, Response, Verification, Webhook, WebhookError, WebhookLimits,
    WebhookSpec, Webhooks,
};
