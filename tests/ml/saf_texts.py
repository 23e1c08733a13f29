"""Real SAF texts that tests in several places grade or give feedback on."""

# A real SAF German question (3) and its reference answer.
SAF_DE_QUESTION = "Frage 3: Worauf sollst du im Kundengespräch mit dem Mitarbeiter achten?"
SAF_DE_REFERENCE = (
    "In der Interaktion mit dem Mitarbeiter soll sowohl auf menschliche, als auch auf verkäuferische Aspekte "
    "geachtet werden. Menschliche Komponenten beinhalten z.B. die Begrüßung (0.25 P), Verabschiedung (0.25 P), "
    "Höflichkeit oder Fokus auf den Kunden. Verkäuferische Aspekte sind z.B. die Nachfrage nach Upselling "
    "(Zusatzangebot) (0.25 P) oder einer Kundenkarte (0.25 P)."
)
