//! One module per resource.

pub(crate) mod health;
pub(crate) mod images;
pub(crate) mod info;
pub(crate) mod thumbnails;
pub(crate) mod uploads;
