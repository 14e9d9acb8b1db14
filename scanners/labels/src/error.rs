//! The one error type of the crate. Every variant has a stable SCREAMING_SNAKE
//! [`code`](LabelError::code) and a message that says what was wrong and what to do.

/// Stable error codes. Callers (the CLI, the HTTP label endpoints) match on these,
/// never on message text.
pub mod codes {
    /// The GTIN is not 8, 12, 13 or 14 digits with a correct check digit.
    pub const INVALID_GTIN: &str = "INVALID_GTIN";
    /// The serial number is empty, longer than 20 characters, or holds a character
    /// outside GS1's character set 82.
    pub const INVALID_SERIAL: &str = "INVALID_SERIAL";
    /// The lot or batch number is empty, too long, or holds a forbidden character.
    pub const INVALID_LOT: &str = "INVALID_LOT";
    /// The expiry is not a real calendar date written `YYYY-MM-DD`, or out of GS1's range.
    pub const INVALID_EXPIRY: &str = "INVALID_EXPIRY";
    /// The Digital Link base URI is not an `http://` or `https://` address.
    pub const INVALID_BASE_URI: &str = "INVALID_BASE_URI";
    /// The CSV does not start with the header `gtin,serial,lot,expiry`.
    pub const CSV_HEADER: &str = "CSV_HEADER";
    /// A CSV row is malformed or holds an invalid value; the error names the line.
    pub const CSV_ROW: &str = "CSV_ROW";
    /// The same GTIN and serial appear on two CSV rows: a serialised pack must be unique.
    pub const DUPLICATE_SERIAL: &str = "DUPLICATE_SERIAL";
    /// The CSV has a header but no label rows.
    pub const EMPTY_SHEET: &str = "EMPTY_SHEET";
    /// The barcode encoder refused the data (too long for any symbol size).
    pub const ENCODE_FAILED: &str = "ENCODE_FAILED";
    /// The bytes are not a PNG or JPEG image that can be read.
    pub const IMAGE_UNREADABLE: &str = "IMAGE_UNREADABLE";
    /// The image holds no code that could be read (only in [`crate::decode_report`];
    /// [`crate::decode`] answers an empty list).
    pub const NO_CODE_FOUND: &str = "NO_CODE_FOUND";
}

/// Everything that can go wrong making or reading a label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// See [`codes::INVALID_GTIN`].
    #[error(
        "GTIN {value:?} is not valid: {reason}. Give the 14-digit GTIN (or 8, 12, 13 digits) as printed on the pack"
    )]
    Gtin {
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// See [`codes::INVALID_SERIAL`].
    #[error(
        "serial number {value:?} is not valid: {reason}. Use 1 to 20 characters: letters, digits and !\"%&'()*+,-./:;<=>?_"
    )]
    Serial {
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// See [`codes::INVALID_LOT`].
    #[error(
        "lot {value:?} is not valid: {reason}. Use 1 to 20 characters: letters, digits and !\"%&'()*+,-./:;<=>?_"
    )]
    Lot {
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// See [`codes::INVALID_EXPIRY`].
    #[error(
        "expiry {value:?} is not valid: {reason}. Write a real date as YYYY-MM-DD, for example 2027-03-31"
    )]
    Expiry {
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// See [`codes::INVALID_BASE_URI`].
    #[error(
        "base URI {value:?} is not valid: {reason}. Give an http:// or https:// address such as https://id.gs1.org"
    )]
    BaseUri {
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// See [`codes::CSV_HEADER`].
    #[error("the CSV header is {found:?}; the first line must be exactly gtin,serial,lot,expiry")]
    CsvHeader {
        /// The header line as read.
        found: String,
    },
    /// See [`codes::CSV_ROW`].
    #[error("CSV line {line}: {problem}. Fix that line; no sheet was made")]
    CsvRow {
        /// The 1-based line of the file (the header is line 1).
        line: u64,
        /// What is wrong with it.
        problem: Box<LabelError>,
    },
    /// A CSV line that cannot even be split into fields; also [`codes::CSV_ROW`].
    #[error("CSV line {line}: {message}. Fix that line; no sheet was made")]
    CsvSyntax {
        /// The 1-based line of the file.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// See [`codes::DUPLICATE_SERIAL`]; appears as the cause of a [`LabelError::CsvRow`].
    #[error(
        "GTIN {gtin} with serial {serial:?} is already on line {first_line}; every pack needs its own serial"
    )]
    DuplicateSerial {
        /// The GTIN of both rows.
        gtin: String,
        /// The repeated serial.
        serial: String,
        /// The line where the pair first appears.
        first_line: u64,
    },
    /// See [`codes::EMPTY_SHEET`].
    #[error("the CSV has no label rows after its header; add one line per label")]
    EmptySheet,
    /// See [`codes::ENCODE_FAILED`].
    #[error("the barcode could not be encoded: {message}. Shorten the lot, serial or base URI")]
    Encode {
        /// What the encoder said.
        message: String,
    },
    /// See [`codes::IMAGE_UNREADABLE`].
    #[error("the image cannot be read: {message}. Give a PNG or JPEG file")]
    Image {
        /// What the image decoder said.
        message: String,
    },
}

impl LabelError {
    /// The stable code of this error, one of [`codes`].
    pub fn code(&self) -> &'static str {
        match self {
            Self::Gtin { .. } => codes::INVALID_GTIN,
            Self::Serial { .. } => codes::INVALID_SERIAL,
            Self::Lot { .. } => codes::INVALID_LOT,
            Self::Expiry { .. } => codes::INVALID_EXPIRY,
            Self::BaseUri { .. } => codes::INVALID_BASE_URI,
            Self::CsvHeader { .. } => codes::CSV_HEADER,
            Self::CsvRow { .. } | Self::CsvSyntax { .. } => codes::CSV_ROW,
            Self::DuplicateSerial { .. } => codes::DUPLICATE_SERIAL,
            Self::EmptySheet => codes::EMPTY_SHEET,
            Self::Encode { .. } => codes::ENCODE_FAILED,
            Self::Image { .. } => codes::IMAGE_UNREADABLE,
        }
    }

    /// For a CSV row error, the 1-based line of the file it concerns.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::CsvRow { line, .. } | Self::CsvSyntax { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// For a CSV row error about a value, the error of that value (with its own code).
    pub fn cause(&self) -> Option<&LabelError> {
        match self {
            Self::CsvRow { problem, .. } => Some(problem),
            _ => None,
        }
    }
}
