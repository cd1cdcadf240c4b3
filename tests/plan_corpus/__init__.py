"""Plan files the tests write themselves: the shapes of issue 10, and a generator varying them."""
