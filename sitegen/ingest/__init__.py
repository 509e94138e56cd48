"""Reading the catalog: readers, the input policy, image checks, pixel colours and markdown pages."""
