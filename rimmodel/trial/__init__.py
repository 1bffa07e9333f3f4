"""Virtual trials: a cohort of lesions under placebo and BTK-inhibitor arms."""
