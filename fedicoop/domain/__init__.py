"""Pure domain logic of fedicoop: opening hours, repair slots and French wire text.

Nothing in this package touches the database, the network, the clock or the settings: every function
takes what it needs as parameters (the current instant included) and returns plain values, so that it can
be tested with known answers and property tests. ``french`` formats dates, times and amounts for the
French text we publish; ``hours`` models a workshop's weekly opening hours and exceptional closures and
converts them to and from schema.org ``openingHoursSpecification``; ``slots`` computes the bookable repair
slots of a workshop (the Rustine Libre algorithm) and names them on the wire.
"""
