"""The billing side: charges, invoices, receipts, billing methods and suspension routines. A later issue."""
