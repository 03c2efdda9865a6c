"""The billing side: billing methods with their suspension rules, charges, receipts, the
standing of a service and the suspension / re-enable routine."""
