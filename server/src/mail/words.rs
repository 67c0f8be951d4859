//! Sealpost's own words in a notice (the subject when none is shown, the first line, the button,
//! the expiry, the footer) and in a recipient's passcode mail, in each language Sealpost has them
//! in, and dates written as that language writes them. A template's own texts, and their
//! translations, come first; these fill in what the template leaves out.

/// One language's words.
#[derive(Debug, PartialEq, Eq)]
pub struct Words {
    /// The tag (`en`, `sv`, …).
    pub tag: &'static str,
    /// `{sender}`: the subject when the tenant does not show the message's own.
    subject: &'static str,
    /// `{sender}`: the first line.
    introduction: &'static str,
    /// The button.
    pub read_button: &'static str,
    /// `{date}`: when access ends.
    expiry: &'static str,
    /// `{tenant}`, `{recipient}`: the footer.
    footer: &'static str,
    /// The privacy statement's link text.
    pub privacy: &'static str,
    /// `{day}`, `{month}`, `{year}`, `{time}`.
    date: &'static str,
    months: [&'static str; 12],
}

const ENGLISH: Words = Words {
    tag: "en",
    subject: "Protected message from {sender}",
    introduction: "{sender} has sent you a protected message.",
    read_button: "Read the message",
    expiry: "This message expires on {date}.",
    footer: "Sent securely by {tenant} with Sealpost. You will be asked for a one-time passcode sent to {recipient}.",
    privacy: "Privacy statement",
    date: "{day} {month} {year} {time} UTC",
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

const ALL: [Words; 5] = [
    ENGLISH,
    Words {
        tag: "sv",
        subject: "Skyddat meddelande från {sender}",
        introduction: "{sender} har skickat ett skyddat meddelande till dig.",
        read_button: "Läs meddelandet",
        expiry: "Meddelandet upphör att gälla {date}.",
        footer: "Skickat säkert av {tenant} med Sealpost. Du får ange en engångskod som skickas till {recipient}.",
        privacy: "Integritetspolicy",
        date: "{day} {month} {year} {time} UTC",
        months: [
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ],
    },
    Words {
        tag: "de",
        subject: "Geschützte Nachricht von {sender}",
        introduction: "{sender} hat Ihnen eine geschützte Nachricht gesendet.",
        read_button: "Nachricht lesen",
        expiry: "Diese Nachricht läuft am {date} ab.",
        footer: "Sicher gesendet von {tenant} mit Sealpost. Sie werden nach einem Einmalcode gefragt, der an {recipient} gesendet wird.",
        privacy: "Datenschutzerklärung",
        date: "{day}. {month} {year}, {time} UTC",
        months: [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
    },
    Words {
        tag: "fr",
        subject: "Message protégé de {sender}",
        introduction: "{sender} vous a envoyé un message protégé.",
        read_button: "Lire le message",
        expiry: "Ce message expire le {date}.",
        footer: "Envoyé de manière sécurisée par {tenant} avec Sealpost. Un code à usage unique vous sera demandé ; il est envoyé à {recipient}.",
        privacy: "Déclaration de confidentialité",
        date: "{day} {month} {year} à {time} UTC",
        months: [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
    },
    Words {
        tag: "es",
        subject: "Mensaje protegido de {sender}",
        introduction: "{sender} le ha enviado un mensaje protegido.",
        read_button: "Leer el mensaje",
        expiry: "Este mensaje caduca el {date}.",
        footer: "Enviado de forma segura por {tenant} con Sealpost. Se le pedirá un código de un solo uso enviado a {recipient}.",
        privacy: "Declaración de privacidad",
        date: "{day} de {month} de {year}, {time} UTC",
        months: [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
    },
];

/// The words for a language tag (`sv`, `de-CH` → `de`); English for one Sealpost does not have.
pub fn for_language(tag: Option<&str>) -> &'static Words {
    let primary = tag
        .and_then(|t| t.split('-').next())
        .unwrap_or("en")
        .to_ascii_lowercase();
    ALL.iter().find(|w| w.tag == primary).unwrap_or(&ALL[0])
}

impl Words {
    pub fn subject(&self, sender: &str) -> String {
        self.subject.replace("{sender}", sender)
    }

    pub fn introduction(&self, sender: &str) -> String {
        self.introduction.replace("{sender}", sender)
    }

    /// "This message expires on …", with the date as this language writes it.
    pub fn expiry(&self, unix: i64) -> String {
        self.expiry.replace("{date}", &self.date(unix))
    }

    pub fn footer(&self, tenant: &str, recipient: &str) -> String {
        self.footer
            .replace("{tenant}", tenant)
            .replace("{recipient}", recipient)
    }

    /// A moment as this language writes it, in UTC.
    pub fn date(&self, unix: i64) -> String {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
            return crate::clock::rfc3339(unix);
        };
        self.date
            .replace("{day}", &t.day().to_string())
            .replace("{month}", self.months[usize::from(u8::from(t.month())) - 1])
            .replace("{year}", &t.year().to_string())
            .replace("{time}", &format!("{:02}:{:02}", t.hour(), t.minute()))
    }
}

/// One language's words in a passcode mail. `{reference}`, `{what}`, `{sender}`, `{minutes}`,
/// `{tenant}` are filled in.
#[derive(Debug, PartialEq, Eq)]
pub struct PasscodeWords {
    /// The tag.
    pub tag: &'static str,
    /// The subject (never the code).
    pub subject: &'static str,
    /// "Here is your one-time passcode to {what}:".
    pub intro: &'static str,
    /// What the code does for a recipient.
    pub read: &'static str,
    /// What the code does for a sender.
    pub sent_messages: &'static str,
    /// The reference word's line.
    pub reference: &'static str,
    /// How long it works, and what to do if you did not ask.
    pub validity: &'static str,
    /// Who sent it.
    pub sent_by: &'static str,
}

const PASSCODE: [PasscodeWords; 5] = [
    PasscodeWords {
        tag: "en",
        subject: "Your one-time passcode (reference: {reference})",
        intro: "Here is your one-time passcode to {what}:",
        read: "read the protected message {sender} sent you",
        sent_messages: "see the protected messages you sent and remove external access",
        reference: "Reference: {reference}. The page where you asked for the code shows the same word; if it does not, do not enter the code there.",
        validity: "The code works once and for {minutes} minutes. If you did not ask for it, ignore this email: nobody can read the message without it.",
        sent_by: "Sent by {tenant} with Sealpost.",
    },
    PasscodeWords {
        tag: "sv",
        subject: "Din engångskod (referens: {reference})",
        intro: "Här är din engångskod för att {what}:",
        read: "läsa det skyddade meddelandet som {sender} skickade till dig",
        sent_messages: "se de skyddade meddelanden du har skickat och ta bort extern åtkomst",
        reference: "Referens: {reference}. Sidan där du bad om koden visar samma ord; gör den inte det, ange inte koden där.",
        validity: "Koden fungerar en gång och i {minutes} minuter. Om du inte bad om den kan du bortse från det här mejlet: ingen kan läsa meddelandet utan den.",
        sent_by: "Skickat av {tenant} med Sealpost.",
    },
    PasscodeWords {
        tag: "de",
        subject: "Ihr Einmalcode (Referenz: {reference})",
        intro: "Hier ist Ihr Einmalcode, um {what}:",
        read: "die geschützte Nachricht zu lesen, die {sender} Ihnen gesendet hat",
        sent_messages: "Ihre gesendeten geschützten Nachrichten zu sehen und den externen Zugriff zu entfernen",
        reference: "Referenz: {reference}. Die Seite, auf der Sie den Code angefordert haben, zeigt dasselbe Wort; wenn nicht, geben Sie den Code dort nicht ein.",
        validity: "Der Code gilt einmal und {minutes} Minuten lang. Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail: Ohne ihn kann niemand die Nachricht lesen.",
        sent_by: "Gesendet von {tenant} mit Sealpost.",
    },
    PasscodeWords {
        tag: "fr",
        subject: "Votre code à usage unique (référence : {reference})",
        intro: "Voici votre code à usage unique pour {what} :",
        read: "lire le message protégé que {sender} vous a envoyé",
        sent_messages: "voir les messages protégés que vous avez envoyés et retirer l'accès externe",
        reference: "Référence : {reference}. La page où vous avez demandé le code affiche le même mot ; sinon, n'y saisissez pas le code.",
        validity: "Le code fonctionne une seule fois et pendant {minutes} minutes. Si vous ne l'avez pas demandé, ignorez ce message : personne ne peut lire le message sans lui.",
        sent_by: "Envoyé par {tenant} avec Sealpost.",
    },
    PasscodeWords {
        tag: "es",
        subject: "Su código de un solo uso (referencia: {reference})",
        intro: "Este es su código de un solo uso para {what}:",
        read: "leer el mensaje protegido que {sender} le ha enviado",
        sent_messages: "ver los mensajes protegidos que ha enviado y quitar el acceso externo",
        reference: "Referencia: {reference}. La página donde pidió el código muestra la misma palabra; si no es así, no introduzca el código allí.",
        validity: "El código funciona una vez y durante {minutes} minutos. Si no lo ha pedido, ignore este correo: nadie puede leer el mensaje sin él.",
        sent_by: "Enviado por {tenant} con Sealpost.",
    },
];

/// The passcode words for a language tag, as [`for_language`] chooses.
pub fn passcode_words(tag: Option<&str>) -> &'static PasscodeWords {
    let chosen = for_language(tag).tag;
    PASSCODE
        .iter()
        .find(|w| w.tag == chosen)
        .unwrap_or(&PASSCODE[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_finds_its_language_by_its_primary_subtag_and_anything_else_is_english() {
        assert_eq!(for_language(Some("sv")).tag, "sv");
        assert_eq!(for_language(Some("de-CH")).tag, "de");
        assert_eq!(for_language(Some("FR")).tag, "fr");
        assert_eq!(for_language(Some("fi")).tag, "en");
        assert_eq!(for_language(None).tag, "en");
    }

    #[test]
    fn dates_are_written_as_each_language_writes_them() {
        // 2026-12-02 13:05 UTC
        let at = 1_796_216_700;
        assert_eq!(for_language(None).date(at), "2 December 2026 13:05 UTC");
        assert_eq!(
            for_language(Some("sv")).date(at),
            "2 december 2026 13:05 UTC"
        );
        assert_eq!(
            for_language(Some("de")).date(at),
            "2. Dezember 2026, 13:05 UTC"
        );
        assert_eq!(
            for_language(Some("fr")).date(at),
            "2 décembre 2026 à 13:05 UTC"
        );
        assert_eq!(
            for_language(Some("es")).date(at),
            "2 de diciembre de 2026, 13:05 UTC"
        );
    }

    #[test]
    fn every_language_has_passcode_words_with_every_placeholder() {
        for w in &ALL {
            let p = passcode_words(Some(w.tag));
            assert_eq!(p.tag, w.tag);
            assert!(p.subject.contains("{reference}") && p.reference.contains("{reference}"));
            assert!(p.intro.contains("{what}") && p.read.contains("{sender}"));
            assert!(p.validity.contains("{minutes}") && p.sent_by.contains("{tenant}"));
        }
    }

    #[test]
    fn every_language_has_every_placeholder() {
        for w in &ALL {
            assert!(w.subject.contains("{sender}"), "{}", w.tag);
            assert!(w.introduction.contains("{sender}"), "{}", w.tag);
            assert!(w.expiry.contains("{date}"), "{}", w.tag);
            assert!(
                w.footer.contains("{tenant}") && w.footer.contains("{recipient}"),
                "{}",
                w.tag
            );
        }
    }
}
