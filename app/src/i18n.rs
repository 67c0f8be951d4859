//! The portal's own words, in English and Swedish. A language is chosen from the browser's
//! preferences and can be switched on the page; the tenant's texts come translated from the
//! branding template ([`sealpost_api::admin::LocalizedText::for_language`]).

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Swedish.
    Sv,
}

impl Lang {
    /// Every language, in the order the switcher shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Sv];

    /// The BCP 47 tag (for `<html lang>` and for picking tenant translations).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
        }
    }

    /// The language's name in itself, for the switcher.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Sv => "Svenska",
        }
    }

    /// The first of the browser's preferred languages that the portal speaks (by primary tag),
    /// else English.
    pub fn from_preferences<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        preferred
            .into_iter()
            .find_map(|tag| {
                let primary = tag.split(['-', '_']).next().unwrap_or(tag);
                Lang::ALL
                    .into_iter()
                    .find(|l| l.tag().eq_ignore_ascii_case(primary))
            })
            .unwrap_or(Lang::En)
    }

    /// The locale dates and times are written in: the first of the browser's preferred languages
    /// in this language (`en-GB` for a British reader of the English portal), else the language
    /// itself (a British reader who switched to Swedish gets Swedish dates).
    pub fn date_locale<'a>(self, preferred: impl IntoIterator<Item = &'a str>) -> String {
        preferred
            .into_iter()
            .map(str::trim)
            .find(|tag| {
                // Only plain well-formed tags (a language and subtags of 2 to 8 letters or
                // digits): anything else would make the browser's date formatting throw.
                let mut parts = tag.split('-');
                parts
                    .next()
                    .is_some_and(|p| p.eq_ignore_ascii_case(self.tag()))
                    && parts.all(|p| {
                        (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric())
                    })
            })
            .map(str::to_owned)
            .unwrap_or_else(|| self.tag().to_owned())
    }

    /// The words in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Sv => &SV,
        }
    }
}

/// Every fixed text of the portal. One field per text, so a language cannot miss one.
#[derive(Debug)]
pub struct Texts {
    pub title: &'static str,
    pub language: &'static str,
    pub loading: &'static str,
    pub home_heading: &'static str,
    pub home_text: &'static str,
    pub protected_message_from: &'static str,
    pub sign_in_heading: &'static str,
    pub passcode_will_go_to: &'static str,
    pub send_passcode: &'static str,
    pub sending: &'static str,
    pub passcode_sent_to: &'static str,
    pub reference_hint: &'static str,
    pub passcode_label: &'static str,
    pub passcode_help: &'static str,
    pub keep_signed_in: &'static str,
    pub keep_signed_in_help: &'static str,
    pub continue_button: &'static str,
    pub checking: &'static str,
    pub resend: &'static str,
    pub resend_in: &'static str,
    pub passcode_wrong_tries_left: &'static str,
    pub passcode_wrong_last_try: &'static str,
    pub passcode_used_up: &'static str,
    pub passcode_expired: &'static str,
    pub passcode_invalid: &'static str,
    pub passcode_format: &'static str,
    pub too_many_passcodes: &'static str,
    pub too_many_attempts: &'static str,
    pub passcodes_disabled: &'static str,
    pub sign_in_with: &'static str,
    pub sign_in_with_passkey: &'static str,
    pub other_ways: &'static str,
    pub sign_in_expired: &'static str,
    pub identity_mismatch: &'static str,
    pub email_unverified: &'static str,
    pub provider_failed: &'static str,
    pub social_unavailable: &'static str,
    pub passkey_invalid: &'static str,
    pub passkey_cancelled: &'static str,
    pub passkeys_heading: &'static str,
    pub add_passkey: &'static str,
    pub add_passkey_help: &'static str,
    pub passkey_added: &'static str,
    pub passkey_not_added: &'static str,
    pub too_many_passkeys: &'static str,
    pub passkey_needs_recent_sign_in: &'static str,
    pub remove_passkey: &'static str,
    pub passkey_made: &'static str,
    pub opening: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub cc: &'static str,
    pub date: &'static str,
    pub attachments: &'static str,
    pub view: &'static str,
    pub hide: &'static str,
    pub download: &'static str,
    pub decrypting: &'static str,
    /// "Saving" (an attachment streamed to disk).
    pub saving: &'static str,
    /// Before a file's name while it is sent with a reply.
    pub uploading: &'static str,
    /// "of", in "12 MB of 1.0 GB".
    pub of: &'static str,
    /// "left", in "about 20 s left".
    pub left: &'static str,
    /// An attachment too large for a browser that can stream to disk neither way.
    pub too_large_to_save: &'static str,
    /// Before the browser's reason when a file could not be written.
    pub save_failed: &'static str,
    pub no_preview: &'static str,
    pub remote_blocked: &'static str,
    pub reply: &'static str,
    pub reply_all: &'static str,
    pub forward: &'static str,
    pub print: &'static str,
    pub sign_out: &'static str,
    pub restricted: &'static str,
    pub print_blocked: &'static str,
    pub compose_reply: &'static str,
    pub compose_reply_all: &'static str,
    pub compose_forward: &'static str,
    pub forward_to: &'static str,
    pub forward_to_help: &'static str,
    pub your_message: &'static str,
    pub attach_files: &'static str,
    pub send: &'static str,
    pub cancel: &'static str,
    pub sent_to: &'static str,
    pub encrypted_note: &'static str,
    pub revoked_heading: &'static str,
    pub revoked_text: &'static str,
    pub access_revoked_text: &'static str,
    pub purged_heading: &'static str,
    pub purged_text: &'static str,
    pub expired_heading: &'static str,
    pub expired_on: &'static str,
    pub expired_text: &'static str,
    pub not_found_heading: &'static str,
    pub not_found_text: &'static str,
    pub signed_out_heading: &'static str,
    pub signed_out_text: &'static str,
    pub session_ended_text: &'static str,
    pub sign_in_again: &'static str,
    pub key_refused_heading: &'static str,
    pub key_refused_text: &'static str,
    pub error_heading: &'static str,
    pub network_text: &'static str,
    pub access_unconfirmed_text: &'static str,
    pub error_code: &'static str,
    pub privacy: &'static str,
    pub secured_by: &'static str,
    pub skip_to_content: &'static str,
    pub bytes: &'static str,
    pub sent_link: &'static str,
    pub sent_heading: &'static str,
    pub sender_sign_in_heading: &'static str,
    pub sender_address_label: &'static str,
    pub sender_address_help: &'static str,
    pub signed_in_as: &'static str,
    pub sent_none: &'static str,
    pub sent_on: &'static str,
    pub state_active: &'static str,
    pub state_revoked: &'static str,
    pub state_expired: &'static str,
    pub access_ends: &'static str,
    pub access_never_ends: &'static str,
    pub recipient_col: &'static str,
    pub notice_col: &'static str,
    pub opened_col: &'static str,
    pub access_col: &'static str,
    pub notice_sent: &'static str,
    pub notice_queued: &'static str,
    pub notice_deferred: &'static str,
    pub notice_failed: &'static str,
    pub not_opened: &'static str,
    pub can_read: &'static str,
    pub removed_by: &'static str,
    pub remove_access_all: &'static str,
    pub remove_access_one: &'static str,
    pub confirm_remove_all: &'static str,
    pub confirm_remove_one: &'static str,
    pub access_removed: &'static str,
    pub use_another_address: &'static str,
}

static EN: Texts = Texts {
    title: "Protected message",
    language: "Language",
    loading: "Loading…",
    home_heading: "Read a protected message",
    home_text: "Protected messages are opened from the link in the notice email you received. Open that email and select Read the message.",
    protected_message_from: "Protected message from",
    sign_in_heading: "Sign in to read the message",
    passcode_will_go_to: "We will email a one-time passcode to",
    send_passcode: "Email me a passcode",
    sending: "Sending…",
    passcode_sent_to: "We sent a passcode to",
    reference_hint: "The email shows the reference word",
    passcode_label: "Passcode (8 digits)",
    passcode_help: "Check your inbox and junk folder. The passcode is valid for 15 minutes.",
    keep_signed_in: "Keep me signed in on this private computer",
    keep_signed_in_help: "Stay signed in for up to 12 hours. Do not use this on a shared computer.",
    continue_button: "Continue",
    checking: "Checking…",
    resend: "Send a new passcode",
    resend_in: "You can ask for a new passcode in {n} s.",
    passcode_wrong_tries_left: "That passcode is not right. You have {n} tries left.",
    passcode_wrong_last_try: "That passcode is not right. You have one try left.",
    passcode_used_up: "That was the last try for this passcode. Ask for a new one.",
    passcode_expired: "This passcode is older than 15 minutes. Ask for a new one.",
    passcode_invalid: "That passcode is not valid. It may be mistyped, expired or already used. Ask for a new one.",
    passcode_format: "Enter the 8 digits from the email.",
    too_many_passcodes: "You have asked for 5 passcodes in the last hour. Use the newest one, or try again later.",
    too_many_attempts: "Too many passcode tries from here. Wait a few minutes, then try again.",
    passcodes_disabled: "The sender's organisation does not let this message be opened with an emailed passcode. Ask the sender for another way to receive it.",
    sign_in_with: "Sign in with {name}",
    sign_in_with_passkey: "Sign in with a passkey",
    other_ways: "Or sign in another way:",
    sign_in_expired: "That sign-in was not finished in time or began in another browser. Please try again.",
    identity_mismatch: "The account you signed in with has a different email address from the one this message was sent to. Sign in with that address's account, or use another way.",
    email_unverified: "The sign-in service does not confirm that your account's email address is verified, so it cannot show this message was sent to you. Use another way to sign in.",
    provider_failed: "The sign-in service did not confirm who you are. Try again, or use another way to sign in.",
    social_unavailable: "That way of signing in is not offered for this message.",
    passkey_invalid: "That passkey did not sign you in. Use the passkey you made for this address, or another way to sign in.",
    passkey_cancelled: "No passkey was used. You can try again or sign in another way.",
    passkeys_heading: "Passkeys",
    add_passkey: "Use a passkey on this device next time",
    add_passkey_help: "A passkey signs you in to messages sent to this address by this organisation, without an emailed code. It stays on this device or in your password manager.",
    passkey_added: "Passkey saved. Next time, sign in with it.",
    passkey_not_added: "No passkey was saved. You can try again later.",
    too_many_passkeys: "This address has as many passkeys as it may. Remove one first.",
    passkey_needs_recent_sign_in: "A passkey can be made only within 15 minutes of signing in. Sign out, sign in again, then make it.",
    remove_passkey: "Remove",
    passkey_made: "made {date}",
    opening: "Decrypting the message in this browser…",
    from: "From",
    to: "To",
    cc: "Cc",
    date: "Date",
    attachments: "Attachments",
    view: "View",
    hide: "Hide",
    download: "Download",
    decrypting: "Decrypting",
    saving: "Saving",
    uploading: "Sending",
    of: "of",
    left: "left",
    too_large_to_save: "This file is too large for this browser to save from the portal. Open the message in a current Chrome, Edge, Firefox or Safari to save it.",
    save_failed: "The file could not be saved:",
    no_preview: "This file cannot be shown here.",
    remote_blocked: "Remote images and content were blocked to protect your privacy.",
    reply: "Reply",
    reply_all: "Reply all",
    forward: "Forward",
    print: "Print",
    sign_out: "Sign out",
    restricted: "The sender restricted this message: it cannot be forwarded, printed, copied or downloaded. These limits discourage sharing but cannot stop a screenshot.",
    print_blocked: "This protected message cannot be printed.",
    compose_reply: "Reply to the sender",
    compose_reply_all: "Reply to everyone",
    compose_forward: "Forward this message",
    forward_to: "To",
    forward_to_help: "Email addresses, separated by commas.",
    your_message: "Your message",
    attach_files: "Attach files",
    send: "Send protected",
    cancel: "Cancel",
    sent_to: "Sent, protected, to",
    encrypted_note: "Decrypted in this browser tab. The key is erased when you leave.",
    revoked_heading: "Message revoked",
    revoked_text: "This message has been revoked by the sender. It can no longer be read.",
    access_revoked_text: "The sender has removed your access to this message.",
    purged_heading: "Message deleted",
    purged_text: "The sender's organisation has permanently deleted this message and its keys. Nobody can open it any more.",
    expired_heading: "Message expired",
    expired_on: "This message expired on {date} and can no longer be read.",
    expired_text: "This message has expired and can no longer be read.",
    not_found_heading: "Message not found",
    not_found_text: "This link does not open a message. Use the link in the most recent email you received about it.",
    signed_out_heading: "You are signed out",
    signed_out_text: "You have signed out and the message has been removed from this page.",
    session_ended_text: "Your session has ended, so the message was removed from this page.",
    sign_in_again: "Sign in again",
    key_refused_heading: "The message cannot be opened",
    key_refused_text: "The server did not release the key for this message.",
    error_heading: "Something went wrong",
    network_text: "The secure message service could not be reached. Check your connection and try again.",
    access_unconfirmed_text: "The message was closed because this page could not check with the secure message service that you may still read it. Check your connection, then open the link again.",
    error_code: "Error code",
    privacy: "Privacy statement",
    secured_by: "Secured by Sealpost",
    skip_to_content: "Skip to content",
    bytes: "bytes",
    sent_link: "Sent a protected message? See what you sent and remove access",
    sent_heading: "Messages you sent",
    sender_sign_in_heading: "See the protected messages you sent",
    sender_address_label: "Your email address",
    sender_address_help: "If this address can send protected mail, we email a passcode to it.",
    signed_in_as: "Signed in as",
    sent_none: "You have not sent any protected messages yet.",
    sent_on: "Sent",
    state_active: "Recipients can read it",
    state_revoked: "External access removed",
    state_expired: "Expired",
    access_ends: "Access ends",
    access_never_ends: "Access does not end by itself",
    recipient_col: "Recipient",
    notice_col: "Notice",
    opened_col: "First opened",
    access_col: "Access",
    notice_sent: "Sent",
    notice_queued: "Waiting to be sent",
    notice_deferred: "Not sent yet, trying again",
    notice_failed: "Not delivered",
    not_opened: "Not opened",
    can_read: "Can read",
    removed_by: "Removed by",
    remove_access_all: "Remove external access",
    remove_access_one: "Remove access",
    confirm_remove_all: "Remove external access to “{subject}” for everyone? Nobody outside your organisation will be able to read it again.",
    confirm_remove_one: "Remove {address}'s access to “{subject}”?",
    access_removed: "External access removed.",
    use_another_address: "Use another address",
};

static SV: Texts = Texts {
    title: "Skyddat meddelande",
    language: "Språk",
    loading: "Laddar…",
    home_heading: "Läs ett skyddat meddelande",
    home_text: "Skyddade meddelanden öppnas från länken i aviseringen du fick med e-post. Öppna det e-postmeddelandet och välj Läs meddelandet.",
    protected_message_from: "Skyddat meddelande från",
    sign_in_heading: "Logga in för att läsa meddelandet",
    passcode_will_go_to: "Vi skickar en engångskod med e-post till",
    send_passcode: "Skicka en kod till mig",
    sending: "Skickar…",
    passcode_sent_to: "Vi har skickat en kod till",
    reference_hint: "E-postmeddelandet visar referensordet",
    passcode_label: "Engångskod (8 siffror)",
    passcode_help: "Titta i inkorgen och skräpposten. Koden gäller i 15 minuter.",
    keep_signed_in: "Håll mig inloggad på den här privata datorn",
    keep_signed_in_help: "Förbli inloggad i upp till 12 timmar. Använd inte detta på en delad dator.",
    continue_button: "Fortsätt",
    checking: "Kontrollerar…",
    resend: "Skicka en ny kod",
    resend_in: "Du kan be om en ny kod om {n} s.",
    passcode_wrong_tries_left: "Koden stämmer inte. Du har {n} försök kvar.",
    passcode_wrong_last_try: "Koden stämmer inte. Du har ett försök kvar.",
    passcode_used_up: "Det var sista försöket för den här koden. Be om en ny.",
    passcode_expired: "Koden är äldre än 15 minuter. Be om en ny.",
    passcode_invalid: "Koden är inte giltig. Den kan vara felskriven, för gammal eller redan använd. Be om en ny.",
    passcode_format: "Skriv de 8 siffrorna från e-postmeddelandet.",
    too_many_passcodes: "Du har bett om 5 koder den senaste timmen. Använd den senaste, eller försök igen senare.",
    too_many_attempts: "För många försök härifrån. Vänta några minuter och försök sedan igen.",
    passcodes_disabled: "Avsändarens organisation tillåter inte att meddelandet öppnas med en kod via e-post. Be avsändaren om ett annat sätt att få det.",
    sign_in_with: "Logga in med {name}",
    sign_in_with_passkey: "Logga in med en nyckel (passkey)",
    other_ways: "Eller logga in på ett annat sätt:",
    sign_in_expired: "Inloggningen slutfördes inte i tid eller påbörjades i en annan webbläsare. Försök igen.",
    identity_mismatch: "Kontot du loggade in med har en annan e-postadress än den meddelandet skickades till. Logga in med den adressens konto, eller välj ett annat sätt.",
    email_unverified: "Inloggningstjänsten bekräftar inte att kontots e-postadress är verifierad, så den kan inte visa att meddelandet skickades till dig. Välj ett annat sätt att logga in.",
    provider_failed: "Inloggningstjänsten bekräftade inte vem du är. Försök igen eller välj ett annat sätt att logga in.",
    social_unavailable: "Det sättet att logga in erbjuds inte för det här meddelandet.",
    passkey_invalid: "Nyckeln loggade inte in dig. Använd nyckeln du skapade för den här adressen, eller ett annat sätt att logga in.",
    passkey_cancelled: "Ingen nyckel användes. Du kan försöka igen eller logga in på ett annat sätt.",
    passkeys_heading: "Nycklar (passkeys)",
    add_passkey: "Använd en nyckel (passkey) på den här enheten nästa gång",
    add_passkey_help: "En nyckel loggar in dig i meddelanden som organisationen skickar till den här adressen, utan kod via e-post. Den stannar på enheten eller i din lösenordshanterare.",
    passkey_added: "Nyckeln är sparad. Logga in med den nästa gång.",
    passkey_not_added: "Ingen nyckel sparades. Du kan försöka igen senare.",
    too_many_passkeys: "Adressen har så många nycklar som den får ha. Ta bort en först.",
    passkey_needs_recent_sign_in: "En nyckel kan bara skapas inom 15 minuter efter inloggningen. Logga ut, logga in igen och skapa den sedan.",
    remove_passkey: "Ta bort",
    passkey_made: "skapad {date}",
    opening: "Dekrypterar meddelandet i webbläsaren…",
    from: "Från",
    to: "Till",
    cc: "Kopia",
    date: "Datum",
    attachments: "Bilagor",
    view: "Visa",
    hide: "Dölj",
    download: "Ladda ned",
    decrypting: "Dekrypterar",
    saving: "Sparar",
    uploading: "Skickar",
    of: "av",
    left: "kvar",
    too_large_to_save: "Filen är för stor för att den här webbläsaren ska kunna spara den från portalen. Öppna meddelandet i en aktuell Chrome, Edge, Firefox eller Safari för att spara den.",
    save_failed: "Filen kunde inte sparas:",
    no_preview: "Filen kan inte visas här.",
    remote_blocked: "Bilder och innehåll från andra webbplatser blockerades för att skydda din integritet.",
    reply: "Svara",
    reply_all: "Svara alla",
    forward: "Vidarebefordra",
    print: "Skriv ut",
    sign_out: "Logga ut",
    restricted: "Avsändaren har begränsat meddelandet: det kan inte vidarebefordras, skrivas ut, kopieras eller laddas ned. Begränsningarna försvårar spridning men kan inte hindra en skärmbild.",
    print_blocked: "Det här skyddade meddelandet kan inte skrivas ut.",
    compose_reply: "Svara avsändaren",
    compose_reply_all: "Svara alla",
    compose_forward: "Vidarebefordra meddelandet",
    forward_to: "Till",
    forward_to_help: "E-postadresser, åtskilda med kommatecken.",
    your_message: "Ditt meddelande",
    attach_files: "Bifoga filer",
    send: "Skicka skyddat",
    cancel: "Avbryt",
    sent_to: "Skickat skyddat till",
    encrypted_note: "Dekrypterat i den här fliken. Nyckeln raderas när du lämnar sidan.",
    revoked_heading: "Meddelandet är återkallat",
    revoked_text: "Avsändaren har återkallat meddelandet. Det kan inte längre läsas.",
    access_revoked_text: "Avsändaren har tagit bort din åtkomst till meddelandet.",
    purged_heading: "Meddelandet är raderat",
    purged_text: "Avsändarens organisation har raderat meddelandet och dess nycklar för gott. Ingen kan öppna det längre.",
    expired_heading: "Meddelandet har gått ut",
    expired_on: "Meddelandet gick ut {date} och kan inte längre läsas.",
    expired_text: "Meddelandet har gått ut och kan inte längre läsas.",
    not_found_heading: "Meddelandet hittades inte",
    not_found_text: "Länken öppnar inget meddelande. Använd länken i det senaste e-postmeddelandet du fick om det.",
    signed_out_heading: "Du är utloggad",
    signed_out_text: "Du har loggat ut och meddelandet har tagits bort från sidan.",
    session_ended_text: "Din session har tagit slut, så meddelandet har tagits bort från sidan.",
    sign_in_again: "Logga in igen",
    key_refused_heading: "Meddelandet kan inte öppnas",
    key_refused_text: "Servern lämnade inte ut nyckeln till meddelandet.",
    error_heading: "Något gick fel",
    network_text: "Tjänsten för skyddade meddelanden gick inte att nå. Kontrollera anslutningen och försök igen.",
    access_unconfirmed_text: "Meddelandet stängdes eftersom sidan inte kunde kontrollera med tjänsten att du fortfarande får läsa det. Kontrollera anslutningen och öppna länken igen.",
    error_code: "Felkod",
    privacy: "Integritetspolicy",
    secured_by: "Skyddat av Sealpost",
    skip_to_content: "Hoppa till innehållet",
    bytes: "byte",
    sent_link: "Har du skickat ett skyddat meddelande? Se vad du skickat och ta bort åtkomst",
    sent_heading: "Meddelanden du skickat",
    sender_sign_in_heading: "Se de skyddade meddelanden du skickat",
    sender_address_label: "Din e-postadress",
    sender_address_help: "Om adressen kan skicka skyddad e-post skickar vi en kod till den.",
    signed_in_as: "Inloggad som",
    sent_none: "Du har inte skickat några skyddade meddelanden ännu.",
    sent_on: "Skickat",
    state_active: "Mottagarna kan läsa det",
    state_revoked: "Extern åtkomst borttagen",
    state_expired: "Har gått ut",
    access_ends: "Åtkomsten upphör",
    access_never_ends: "Åtkomsten upphör inte av sig själv",
    recipient_col: "Mottagare",
    notice_col: "Avisering",
    opened_col: "Först öppnat",
    access_col: "Åtkomst",
    notice_sent: "Skickad",
    notice_queued: "Väntar på att skickas",
    notice_deferred: "Inte skickad än, försöker igen",
    notice_failed: "Inte levererad",
    not_opened: "Inte öppnat",
    can_read: "Kan läsa",
    removed_by: "Borttagen av",
    remove_access_all: "Ta bort extern åtkomst",
    remove_access_one: "Ta bort åtkomst",
    confirm_remove_all: "Ta bort extern åtkomst till ”{subject}” för alla? Ingen utanför organisationen kommer att kunna läsa det igen.",
    confirm_remove_one: "Ta bort åtkomsten för {address} till ”{subject}”?",
    access_removed: "Den externa åtkomsten är borttagen.",
    use_another_address: "Använd en annan adress",
};

/// `template` with `{name}` replaced by `value`.
pub fn fill(template: &str, name: &str, value: &str) -> String {
    template.replace(&format!("{{{name}}}"), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_preference_picks_the_first_language_we_speak() {
        assert_eq!(Lang::from_preferences(["sv-SE", "en-US"]), Lang::Sv);
        assert_eq!(Lang::from_preferences(["de-DE", "sv", "en"]), Lang::Sv);
        assert_eq!(Lang::from_preferences(["en-GB", "sv"]), Lang::En);
        assert_eq!(Lang::from_preferences(["SV_fi"]), Lang::Sv);
        assert_eq!(Lang::from_preferences(["de", "fr"]), Lang::En);
        assert_eq!(Lang::from_preferences([]), Lang::En);
    }

    #[test]
    fn dates_follow_the_reader_locale_in_the_portal_language() {
        // a British reader of the English portal gets British dates
        assert_eq!(Lang::En.date_locale(["en-GB", "en-US", "sv"]), "en-GB");
        assert_eq!(Lang::En.date_locale(["sv-SE", "EN-au"]), "EN-au");
        // one who switched to Swedish gets Swedish ones, from their Swedish preference if any
        assert_eq!(Lang::Sv.date_locale(["en-GB"]), "sv");
        assert_eq!(Lang::Sv.date_locale(["en-GB", "sv-FI"]), "sv-FI");
        // no preference in the language: the language itself
        assert_eq!(Lang::En.date_locale([]), "en");
        assert_eq!(Lang::En.date_locale(["de-DE"]), "en");
        // never a tag the browser's formatter would throw on
        for bad in [
            "en_GB",
            "en-",
            "en--GB",
            "en-u-ca-x",
            "en-GB!",
            "english",
            "en-toolongsubtag",
        ] {
            assert_eq!(Lang::En.date_locale([bad]), "en", "{bad}");
        }
        assert_eq!(Lang::En.date_locale([" en-GB "]), "en-GB");
    }

    #[test]
    fn placeholders_survive_translation() {
        for lang in Lang::ALL {
            let t = lang.texts();
            for (template, name) in [
                (t.resend_in, "n"),
                (t.passcode_wrong_tries_left, "n"),
                (t.expired_on, "date"),
            ] {
                assert!(
                    template.contains(&format!("{{{name}}}")),
                    "{lang:?}: {template}"
                );
                assert!(!fill(template, name, "7").contains('{'));
            }
        }
    }
}
