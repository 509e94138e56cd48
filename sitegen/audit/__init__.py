"""The audit of a built site (sitegen check) and the review report."""
