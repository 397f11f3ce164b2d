"""Names of the PLL and StereoSet variants and agreement formats (free of heavy imports for the CLI)."""

PLL_VARIANTS = ("original", "within_word_l2r")
AGREEMENT_FORMATS = ("auto", "lgd", "gulordava", "marvin")
STEREOSET_VARIANTS = ("official", "within_word_l2r")
