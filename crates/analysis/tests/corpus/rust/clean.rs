//! Parsing of durations like `90s`, `15m` or `2h`.

use std::time::Duration;

#[derive(Debug, PartialEq)]
pub enum ParseError {
    Empty,
    BadNumber(String),
    BadUnit(char),
}

pub fn parse(text: &str) -> Result<Duration, ParseError> {
    let text = text.trim();
    let unit = text.chars().last().ok_or(ParseError::Empty)?;
    let number = &text[..text.len() - unit.len_utf8()];
    let value: u64 = number
        .parse()
        .map_err(|_| ParseError::BadNumber(number.to_owned()))?;
    let seconds = match unit {
        's' => value,
        'm' => value * 60,
        'h' => value * 3600,
        other => return Err(ParseError::BadUnit(other)),
    };
    Ok(Duration::from_secs(seconds))
}
