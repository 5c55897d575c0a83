//! What a legal e-invoice needs to know of a party beyond its name and address: its VAT
//! identifier, its electronic address on a network such as Peppol, and the account it is paid
//! into. Each is checked where it is parsed, so that no e-invoice names one the standard's
//! rules would refuse.

use super::text::BoundedText;

/// The electronic address schemes of the CEF EAS code list that EN 16931's rules accept
/// (BR-CL-25), as CEN/TC 434's validation artefacts list them.
const ADDRESS_SCHEMES: &[&str] = &[
    "0002", "0007", "0009", "0037", "0060", "0088", "0096", "0097", "0106", "0130", "0135", "0142",
    "0147", "0151", "0154", "0158", "0170", "0177", "0183", "0184", "0188", "0190", "0191", "0192",
    "0193", "0194", "0195", "0196", "0198", "0199", "0200", "0201", "0202", "0203", "0204", "0205",
    "0208", "0209", "0210", "0211", "0212", "0213", "0215", "0216", "0217", "0218", "0219", "0220",
    "0221", "0225", "0230", "0235", "0240", "0242", "0244", "0245", "0246", "0248", "9910", "9913",
    "9914", "9915", "9918", "9919", "9920", "9922", "9923", "9924", "9925", "9926", "9927", "9928",
    "9929", "9930", "9931", "9932", "9933", "9934", "9935", "9936", "9937", "9938", "9939", "9940",
    "9941", "9942", "9943", "9944", "9945", "9946", "9947", "9948", "9949", "9950", "9951", "9952",
    "9953", "9957", "9959", "AN", "AQ", "AS", "AU", "EM",
];

/// A party's electronic address (BT-34, BT-49): a scheme of the EAS list and an identifier in
/// it, such as `0088` and a GLN, or `9930` and a German VAT number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectronicAddress {
    scheme: &'static str,
    id: String,
}

/// Which part of a value is wrong, for the edge to name the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPart {
    /// The scheme.
    Scheme,
    /// The identifier.
    Id,
}

impl ElectronicAddress {
    /// Checks the scheme against the EAS list and the identifier's length (1 to 100 printable
    /// characters, no spaces at either end).
    pub fn parse(scheme: &str, id: &str) -> Result<Self, (AddressPart, String)> {
        let scheme = ADDRESS_SCHEMES
            .iter()
            .find(|known| **known == scheme)
            .ok_or_else(|| {
                (
                    AddressPart::Scheme,
                    "must be a code of the EAS list, such as 0088 or 9930".to_owned(),
                )
            })?;
        let printable = id.chars().all(|character| !character.is_control());
        if id.is_empty() || id.chars().count() > 100 || id.trim() != id || !printable {
            return Err((
                AddressPart::Id,
                "must be 1 to 100 printable characters without spaces at either end".to_owned(),
            ));
        }
        Ok(Self {
            scheme,
            id: id.to_owned(),
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The identifier.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A VAT identifier (BT-31, BT-48): a two-letter country prefix (`EL` for Greece) and 2 to 13
/// letters or digits (BR-CO-09).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatId(String);

impl VatId {
    /// Checks the shape; spaces are dropped, as people write them in.
    pub fn parse(value: &str) -> Result<Self, String> {
        let compact: String = value.chars().filter(|c| *c != ' ').collect();
        let refused = || {
            "must be a two-letter country prefix and 2 to 13 letters or digits, such as DE123456789"
                .to_owned()
        };
        // Only ASCII is split by bytes below; anything else is no VAT id.
        if !compact.is_ascii() {
            return Err(refused());
        }
        let (prefix, rest) = compact.split_at(compact.len().min(2));
        let prefix_ok = prefix.len() == 2 && prefix.chars().all(|c| c.is_ascii_uppercase());
        let rest_ok = (2..=13).contains(&rest.len())
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '*');
        if prefix_ok && rest_ok {
            Ok(Self(compact))
        } else {
            Err(refused())
        }
    }

    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IBAN (BT-84), kept without spaces, its check digits verified (ISO 13616).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Iban(String);

impl Iban {
    /// Checks the shape and the check digits; spaces are dropped and letters upper-cased.
    pub fn parse(value: &str) -> Result<Self, String> {
        let compact: String = value
            .chars()
            .filter(|c| *c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let shaped = (15..=34).contains(&compact.len())
            && compact.chars().all(|c| c.is_ascii_alphanumeric())
            && compact[..2].chars().all(|c| c.is_ascii_uppercase())
            && compact[2..4].chars().all(|c| c.is_ascii_digit());
        if !shaped {
            return Err(
                "must be an IBAN: a country code, two check digits and up to 30 letters or digits"
                    .to_owned(),
            );
        }
        // ISO 7064 MOD 97-10 over the rotated text, letters as 10 to 35, a digit at a time.
        let rotated = compact[4..].chars().chain(compact[..4].chars());
        let remainder = rotated.fold(0u32, |remainder, character| {
            let value = character.to_digit(36).expect("checked alphanumeric");
            if value < 10 {
                (remainder * 10 + value) % 97
            } else {
                (remainder * 100 + value) % 97
            }
        });
        if remainder == 1 {
            Ok(Self(compact))
        } else {
            Err("has check digits that do not match: the IBAN is mistyped".to_owned())
        }
    }

    /// The IBAN, without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BIC (BT-86): four letters of the bank, two of the country, two letters or digits of the
/// place, and perhaps three of the branch (ISO 9362).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bic(String);

impl Bic {
    /// Checks the shape.
    pub fn parse(value: &str) -> Result<Self, String> {
        let letters = |part: &str| part.chars().all(|c| c.is_ascii_uppercase());
        let alphanumeric = |part: &str| {
            part.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        };
        let shaped = (value.len() == 8 || value.len() == 11)
            && value.is_ascii()
            && letters(&value[..6])
            && alphanumeric(&value[6..]);
        if shaped {
            Ok(Self(value.to_owned()))
        } else {
            Err(
                "must be a BIC of 8 or 11 capital letters or digits, such as BYLADEM1001"
                    .to_owned(),
            )
        }
    }

    /// The BIC.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The account an organization is paid into, which its invoices ask to be paid to (BG-17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAccount {
    /// BT-84.
    pub iban: Iban,
    /// BT-86.
    pub bic: Option<Bic>,
    /// BT-85: the account holder's name, where it differs from the organization's.
    pub name: Option<BoundedText<70>>,
}

/// What an organization gives to issue legal e-invoices; every field may be unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegalIdentity {
    /// BT-27: the registered name, where it differs from the trading name.
    pub legal_name: Option<BoundedText<255>>,
    /// BT-31: the VAT identifier.
    pub vat_id: Option<VatId>,
    /// BT-30: the number in a trade or company register.
    pub registration_number: Option<BoundedText<100>>,
    /// BT-34: its address on an e-invoicing network such as Peppol.
    pub electronic_address: Option<ElectronicAddress>,
    /// BG-17: where it is paid.
    pub bank_account: Option<BankAccount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn electronic_addresses_use_a_scheme_of_the_eas_list() {
        let address = ElectronicAddress::parse("0088", "4000001123452").unwrap();
        assert_eq!((address.scheme(), address.id()), ("0088", "4000001123452"));
        assert!(ElectronicAddress::parse("EM", "billing@example.com").is_ok());
        assert_eq!(
            ElectronicAddress::parse("1234", "x").unwrap_err().0,
            AddressPart::Scheme
        );
        assert_eq!(
            ElectronicAddress::parse("9930", " DE1").unwrap_err().0,
            AddressPart::Id
        );
        assert!(ElectronicAddress::parse("9930", "").is_err());
        // Characters are counted, not bytes.
        assert!(ElectronicAddress::parse("EM", &"é".repeat(100)).is_ok());
        assert!(ElectronicAddress::parse("EM", &"é".repeat(101)).is_err());
    }

    #[test]
    fn vat_ids_carry_their_country_prefix() {
        assert_eq!(
            VatId::parse("DE 123 456 789").unwrap().as_str(),
            "DE123456789"
        );
        assert!(VatId::parse("EL123456789").is_ok());
        assert!(VatId::parse("123456789").is_err());
        assert!(VatId::parse("de123456789").is_err());
        assert!(VatId::parse("DE1").is_err());
        assert!(VatId::parse("DE12345678901234").is_err());
        // A character of two bytes where the prefix ends is refused, not split.
        assert!(VatId::parse("O\u{94}x~").is_err());
        assert!(VatId::parse("ÄÖ123").is_err());
    }

    #[test]
    fn ibans_must_have_matching_check_digits() {
        assert_eq!(
            Iban::parse("de02 1203 0000 0000 2020 51").unwrap().as_str(),
            "DE02120300000000202051"
        );
        assert!(Iban::parse("GB82WEST12345698765432").is_ok());
        assert!(
            Iban::parse("DE02120300000000202052").is_err(),
            "one digit off"
        );
        assert!(Iban::parse("DE0212").is_err());
        assert!(Iban::parse("DEXX120300000000202051").is_err());
    }

    #[test]
    fn bics_have_eight_or_eleven_characters() {
        assert!(Bic::parse("BYLADEM1001").is_ok());
        assert!(Bic::parse("DEUTDEFF").is_ok());
        assert!(Bic::parse("DEUTDEF").is_err());
        assert!(Bic::parse("deutdeff").is_err());
        assert!(Bic::parse("DEUT1EFF").is_err());
    }
}
