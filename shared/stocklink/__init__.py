"""StockLink: one stock pool shared by every sales channel, guarded by DynamoDB conditional writes."""
