/* Keeps a layer library non-empty while its folder has no module yet. */
typedef int natsim_empty_translation_unit;
