# De bewonerspagina's van de uitgever in het Nederlands. Elke id staat ook in en.ftl.

## Elke pagina
enroll-title = Stel je passkey in
enroll-intro = Vul de activeringscode uit je brief in. Je apparaat maakt dan een passkey: die ontgrendel je met je vingerafdruk, gezicht of schermvergrendeling.
enroll-code = Activeringscode
enroll-code-help = 20 letters en cijfers; streepjes en spaties mogen weg.
enroll-create = Passkey maken
enroll-already = Al ingesteld?
sign-in = Inloggen
sign-in-title = Inloggen
sign-in-intro = Log in met de passkey die je voor deze dienst hebt gemaakt.
sign-in-button = Inloggen met een passkey
no-passkey-yet = Nog geen passkey?
no-passkey-link = Stel er een in met je activeringscode
request-unusable = Dit verzoek van je wallet kan niet worden gebruikt: { $reason }.
start-again-wallet = Begin opnieuw vanuit je wallet.
request-expired-title = Verzoek verlopen
request-refused-title = Verzoek geweigerd
authorize-asks-sign-in = { $wallet } vraagt om je inwonersbewijs. Log eerst in met je passkey.
authorize-asks = { $wallet } vraagt om je inwonersbewijs.
authorize-destination = Het gaat naar de wallet op { $destination }: een reeks kopieën voor eenmalig gebruik, elk gebonden aan een sleutel op je apparaat.
authorize-approve = Toevoegen aan { $wallet }
cancel = Annuleren
authorize-title = Voeg je inwonersbewijs toe
provider-asks-sign-in = { $wallet } vraagt { $agency } te bevestigen dat het een echte burgerwallet is. Log eerst in met je passkey.
provider-asks = { $wallet } op { $destination } vraagt { $agency } te bevestigen dat het een echte burgerwallet is, zodat het om je inwonersbewijs kan vragen.
provider-names = De bevestiging noemt de wallet en een sleutel die hij op dit apparaat maakte. Ze noemt jou of je apparaat niet, en { $agency } bewaart er niets van.
provider-approve = Bevestig { $wallet }
provider-title = Bevestig je wallet

## De accountpagina
me-title = Je inschrijving
me-held = Wat we over je bewaren
me-register-number = Registratienummer
me-valid-until = Inschrijving geldig tot
me-passkeys = Je passkeys
me-remove = Verwijderen
me-remove-label = Verwijder { $name }
me-add-passkey = Passkey toevoegen
me-credentials = Je inwonersbewijzen
me-no-credentials = Je hebt nog geen inwonersbewijs aan een wallet toegevoegd.
me-credential-counts = { $total ->
    [one] 1 kopie uitgegeven
   *[other] { $total } kopieën uitgegeven
}: { $valid } geldig, { $suspended } geschorst, { $revoked } ingetrokken, { $expired } verlopen.
me-offer-button = Inwonersbewijs aan mijn wallet toevoegen
me-offer-scan = Scan deze code met je wallet, of open de link op dit apparaat.
me-offer-qr = QR-code van het aanbod
me-offer-link = Open in mijn wallet op dit apparaat
me-offer-tx = Je wallet vraagt om deze code:
me-offer-once = Het aanbod werkt één keer en verloopt na een paar minuten.
me-blocked = Er kan nu geen bewijs worden uitgegeven: { $reason }.
me-sign-out = Uitloggen
blocked-not-on-register = je staat niet in het register
blocked-left-register = je staat niet meer in het register
blocked-revoked = je bewijzen zijn ingetrokken of geschorst
blocked-expired = je inschrijving is verlopen
blocked-incomplete = je inschrijving is niet volledig
claim-given_name = Voornaam
claim-family_name = Achternaam
claim-birthdate = Geboortedatum
claim-address-street_address = Straat en huisnummer
claim-address-postal_code = Postcode
claim-address-locality = Woonplaats
claim-address-country = Land
claim-residence-municipality = Gemeente
claim-residence-municipality_code = Gemeentecode
claim-residence-district = Wijk
claim-resident_since = Inwoner sinds

## /static/app.js
js-follow-prompt = Volg de aanwijzingen op je apparaat…
js-offer-ready = Aanbod klaar.
js-returning = Terug naar je wallet…
js-cancelled = De passkey-vraag is geannuleerd of verlopen. Probeer het opnieuw.
js-has-passkey = Dit apparaat heeft al een passkey voor je account.
js-no-passkeys = Deze browser of dit apparaat ondersteunt geen passkeys.
js-wrong-address = Passkeys werken alleen op het eigen webadres van de gemeente.
error-invalid_code = De code klopt niet. Controleer hem en probeer het opnieuw.
error-code_locked = Deze code is geblokkeerd na te veel foute pogingen. Vraag de gemeente om een nieuwe.
error-code_expired = Deze code is verlopen. Vraag de gemeente om een nieuwe.
error-code_used = Deze code is al gebruikt.
error-ceremony_expired = Dat duurde te lang. Begin opnieuw.
error-unknown_passkey = Deze passkey is hier niet bekend. Stel er een in met je activeringscode.
error-last_passkey = Dit is je enige passkey: voeg er eerst een toe voordat je hem verwijdert.
