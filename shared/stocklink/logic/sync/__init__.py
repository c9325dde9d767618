"""Channel sync: from a stock change to every affected listing's quantity on its platform, and the
30-second pass that reads listings back and fixes drift. One module per concern (see ARCHITECTURE.md)."""
