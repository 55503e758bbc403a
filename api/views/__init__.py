"""Pure helpers of how the backend shows what it keeps: the staff words for codes (``labels``), a conversation
as chat messages (``chat``), what became of a message (``delivery``), the search box (``search``),
spreadsheets (``sheets``), texts (``text``) and residents' wordings grouped for training (``wording``).
The standard's rules are ``heating_standard``, the domain; nothing here decides anything."""
