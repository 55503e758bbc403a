"""Pure helpers of the backend that are not rules of the standard (those are in ``heating_standard``)."""
