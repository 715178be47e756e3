"""Social commerce: transaction and activity detection in Indonesian social posts, and extraction of price, payment and product."""
